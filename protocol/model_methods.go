package protocol

// ModelListParams pages through the models this server can run turns with.
type ModelListParams struct {
	Cursor *string `json:"cursor,omitempty"`
	Limit  *uint32 `json:"limit,omitempty"`
	// IncludeHidden also lists hidden models; this server hides none.
	IncludeHidden *bool `json:"includeHidden,omitempty"`
	// ModelProvider lists the models of this provider only.
	ModelProvider *string `json:"modelProvider,omitempty"`
}

// ModelListResponse is one page of models.
type ModelListResponse struct {
	Data       []Model `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

// Model is one model a thread can use: the configured model, and the
// built-in shell agent.
type Model struct {
	// ID is the model's name as thread/start and turn/start take it.
	ID          string `json:"id"`
	Model       string `json:"model"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	Hidden      bool   `json:"hidden"`
	// IsDefault marks the model new threads use.
	IsDefault                 bool                    `json:"isDefault"`
	DefaultReasoningEffort    string                  `json:"defaultReasoningEffort"`
	SupportedReasoningEfforts []ReasoningEffortOption `json:"supportedReasoningEfforts"`
	InputModalities           []InputModality         `json:"inputModalities"`
	Upgrade                   *string                 `json:"upgrade"`
	// The catalog metadata below has no source here: empty or null.
	AdditionalSpeedTiers []string `json:"additionalSpeedTiers"`
	DefaultServiceTier   *string  `json:"defaultServiceTier"`
	ModelSpecialty       *string  `json:"modelSpecialty"`
	SupportsPersonality  bool     `json:"supportsPersonality"`
}

// ReasoningEffortOption is one effort a model accepts.
type ReasoningEffortOption struct {
	ReasoningEffort string `json:"reasoningEffort"`
	Description     string `json:"description"`
}

// InputModality is a kind of input a model takes.
type InputModality string

const (
	ModalityText  InputModality = "text"
	ModalityImage InputModality = "image"
	ModalityAudio InputModality = "audio"
)

// EnumValues implements Enum.
func (InputModality) EnumValues() []string {
	return enumStrings([]InputModality{ModalityText, ModalityImage, ModalityAudio})
}
