package protocol

// UserInput is one piece of a user's message.
type UserInput struct {
	Text       *TextInput       `union:"text,TextUserInput"`
	Image      *ImageInput      `union:"image,ImageUserInput"`
	LocalImage *LocalImageInput `union:"localImage,LocalImageUserInput"`
}

func (UserInput) UnionKind() UnionKind            { return TaggedUnion }
func (UserInput) Variants() []Variant             { return taggedVariants[UserInput]() }
func (u UserInput) MarshalJSON() ([]byte, error)  { return marshalTagged(u) }
func (u *UserInput) UnmarshalJSON(b []byte) error { return unmarshalTagged(b, u) }

// TextInput is text typed by the user. For the shell agent it is one command line.
type TextInput struct {
	Text string `json:"text"`
	// TextElements marks spans of Text; written as [] when there are none.
	TextElements []TextElement `json:"text_elements,omitzero"`
}

// MarshalJSON always writes text_elements, as [] when empty: the field is
// optional for clients to send but always present in what the server sends.
func (t TextInput) MarshalJSON() ([]byte, error) {
	elems := t.TextElements
	if elems == nil {
		elems = []TextElement{}
	}
	return marshal(struct {
		Text         string        `json:"text"`
		TextElements []TextElement `json:"text_elements"`
	}{t.Text, elems})
}

// TextElement marks a span of a text input.
type TextElement struct {
	ByteRange   ByteRange `json:"byteRange"`
	Placeholder *string   `json:"placeholder"`
}

// ByteRange is a half-open range of byte offsets.
type ByteRange struct {
	Start uint64 `json:"start"`
	End   uint64 `json:"end"`
}

// ImageInput is an image given by URL.
type ImageInput struct {
	URL    string       `json:"url"`
	Detail *ImageDetail `json:"detail,omitempty"`
}

// LocalImageInput is an image given by a local path.
type LocalImageInput struct {
	Path   string       `json:"path"`
	Detail *ImageDetail `json:"detail,omitempty"`
}

// ImageDetail is the resolution an image is looked at.
type ImageDetail string

const (
	ImageDetailAuto     ImageDetail = "auto"
	ImageDetailLow      ImageDetail = "low"
	ImageDetailHigh     ImageDetail = "high"
	ImageDetailOriginal ImageDetail = "original"
)

var imageDetails = []ImageDetail{ImageDetailAuto, ImageDetailLow, ImageDetailHigh, ImageDetailOriginal}

// EnumValues implements Enum.
func (ImageDetail) EnumValues() []string { return enumStrings(imageDetails) }

// UnmarshalJSON refuses unknown values.
func (d *ImageDetail) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, d, imageDetails) }

// TextUserInput returns a text input.
func TextUserInput(text string) UserInput { return UserInput{Text: &TextInput{Text: text}} }
