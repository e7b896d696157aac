package e2e

import "github.com/google/uuid"

// isUUIDv7 reports whether id is one of the server's own ids: a UUIDv7
// in canonical form.
func isUUIDv7(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.Version() == 7 && u.String() == id
}
