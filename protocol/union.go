package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// A Union is a sum type with hand-written JSON methods. Variants describes its
// wire forms so that package schema can generate the matching oneOf; it is not
// used to encode or decode.
type Union interface {
	UnionKind() UnionKind
	Variants() []Variant
}

// UnionKind says how a union's variants are told apart on the wire.
type UnionKind int

const (
	// TaggedUnion: an object whose "type" member names the variant; the
	// variant's fields sit beside it.
	TaggedUnion UnionKind = iota
	// ExternallyTaggedUnion: either a bare string naming the variant, or an
	// object with a single member whose key names the variant and whose value
	// is the variant's payload.
	ExternallyTaggedUnion
)

// Variant describes one variant of a Union.
type Variant struct {
	// Title names the variant in the schema, for example "UserMessageThreadItem".
	Title string
	// Tag is the discriminator: the "type" value of a tagged union, or the
	// string or single key of an externally tagged one.
	Tag string
	// Payload is a zero value of the variant's payload struct, or nil for a
	// variant that is a bare string (or a tagged variant with no fields).
	Payload any
	// Description documents the variant in the schema.
	Description string
}

// Tagged unions are written as a struct with one pointer field per variant,
// exactly one of which is set:
//
//	type ThreadItem struct {
//		UserMessage *UserMessageItem `union:"userMessage,UserMessageThreadItem"`
//		...
//	}
//
// The union tag gives the wire tag and the schema title. The helpers below
// implement MarshalJSON, UnmarshalJSON and Variants for such structs once.

type taggedField struct {
	index int
	tag   string
	title string
	elem  reflect.Type // the payload struct type
}

var taggedFieldsCache sync.Map // reflect.Type -> []taggedField

func taggedFields(t reflect.Type) []taggedField {
	if v, ok := taggedFieldsCache.Load(t); ok {
		return v.([]taggedField)
	}
	var fields []taggedField
	for i := range t.NumField() {
		f := t.Field(i)
		spec, ok := f.Tag.Lookup("union")
		if !ok {
			continue
		}
		tag, title, _ := strings.Cut(spec, ",")
		if f.Type.Kind() != reflect.Pointer || f.Type.Elem().Kind() != reflect.Struct {
			panic(fmt.Sprintf("protocol: union field %s.%s must be a pointer to a struct", t.Name(), f.Name))
		}
		fields = append(fields, taggedField{index: i, tag: tag, title: title, elem: f.Type.Elem()})
	}
	taggedFieldsCache.Store(t, fields)
	return fields
}

// taggedVariants lists the variants of a tagged union struct type U.
func taggedVariants[U any]() []Variant {
	fields := taggedFields(reflect.TypeFor[U]())
	out := make([]Variant, len(fields))
	for i, f := range fields {
		out[i] = Variant{Title: f.title, Tag: f.tag, Payload: reflect.New(f.elem).Elem().Interface()}
	}
	return out
}

// marshalTagged writes the one set variant of u as {"type":tag, ...fields}.
func marshalTagged(u any) ([]byte, error) {
	v := reflect.ValueOf(u)
	t := v.Type()
	var set *taggedField
	for _, f := range taggedFields(t) {
		if !v.Field(f.index).IsNil() {
			if set != nil {
				return nil, fmt.Errorf("%s: both %s and %s are set", t.Name(), set.tag, f.tag)
			}
			set = &f
		}
	}
	if set == nil {
		return nil, fmt.Errorf("%s: no variant is set", t.Name())
	}
	body, err := marshal(v.Field(set.index).Interface())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(body) + len(set.tag) + 12)
	buf.WriteString(`{"type":`)
	tag, _ := marshal(set.tag)
	buf.Write(tag)
	if len(body) > 2 { // body is {...}; splice its members after the tag
		buf.WriteByte(',')
		buf.Write(body[1:])
	} else {
		buf.WriteByte('}')
	}
	return buf.Bytes(), nil
}

// unmarshalTagged decodes b into the variant of *u that its "type" names.
func unmarshalTagged(b []byte, u any) error {
	v := reflect.ValueOf(u).Elem()
	t := v.Type()
	var head struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return fmt.Errorf("%s: %w", t.Name(), err)
	}
	if head.Type == nil {
		return fmt.Errorf("%s: missing field `type`", t.Name())
	}
	for _, f := range taggedFields(t) {
		if f.tag != *head.Type {
			continue
		}
		if err := checkRequired(b, f.elem); err != nil {
			return fmt.Errorf("%s %s: %w", t.Name(), f.tag, err)
		}
		p := reflect.New(f.elem)
		if err := json.Unmarshal(b, p.Interface()); err != nil {
			return fmt.Errorf("%s %s: %w", t.Name(), f.tag, err)
		}
		v.SetZero()
		v.Field(f.index).Set(p)
		return nil
	}
	return fmt.Errorf("%s: unknown variant `%s`", t.Name(), *head.Type)
}

// checkRequired reports the first member of struct type t that decoding
// requires but object b lacks. A member is required when its field is not a
// pointer and its json tag has neither omitempty nor omitzero, the same
// rule the schema uses.
func checkRequired(b []byte, t reflect.Type) error {
	required := requiredMembers(t)
	if len(required) == 0 && len(b) > 0 && b[0] == '{' {
		return nil // nothing to look for; bad JSON is the decoder's to report
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return err
	}
	if members == nil {
		return errors.New("expected an object")
	}
	for _, name := range required {
		if _, ok := members[name]; !ok {
			return fmt.Errorf("missing field `%s`", name)
		}
	}
	return nil
}

// requiredByType caches requiredMembers: every request's params are
// checked, and most params types have no required member at all.
var requiredByType sync.Map // reflect.Type -> []string

// requiredMembers returns the members struct type t requires, in field
// order.
func requiredMembers(t reflect.Type) []string {
	if v, ok := requiredByType.Load(t); ok {
		return v.([]string)
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() || f.Type.Kind() == reflect.Pointer || strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero") {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	requiredByType.Store(t, names)
	return names
}
