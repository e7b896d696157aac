package session

import "github.com/google/uuid"

// newID returns a new thread, turn or item id. Ids are UUIDv7, ordered by
// creation time: the rollout store's list order and thread/loaded/list
// rely on it, so there is no fallback to another version. NewV7 fails only
// when the system's random source does, which crypto/rand already treats
// as fatal.
func newID() uuid.UUID {
	return uuid.Must(uuid.NewV7())
}

// parseID reads an id from the wire. Only the canonical form (36 lowercase
// characters, as we write them) is accepted, so that one thread never has
// two names and a client's string never becomes a path of its own making.
func parseID(s string) (uuid.UUID, bool) {
	u, err := uuid.Parse(s)
	return u, err == nil && u.String() == s
}
