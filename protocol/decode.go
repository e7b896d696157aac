package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// DecodeParams decodes request params into v (a pointer to a params struct)
// and reports the first problem by field name: a member of the wrong type, or
// a required member that is missing. Absent or null params decode as {}.
// Unknown members are ignored.
func DecodeParams(raw []byte, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}")
	}
	if raw[0] != '{' {
		return errors.New("params must be an object")
	}
	t := reflect.TypeOf(v).Elem()
	if t.Kind() == reflect.Struct {
		if err := checkRequired(raw, t); err != nil {
			return err
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return fmt.Errorf("field `%s`: expected %s, got JSON %s", typeErr.Field, typeErr.Type, typeErr.Value)
		}
		return err
	}
	return nil
}
