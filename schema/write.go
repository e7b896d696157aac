package schema

import (
	"io/fs"
	"os"
	"path/filepath"
)

// WriteDir writes every file of fsys under dir, creating directories as
// needed and overwriting files that exist. It is how the app-server binary
// writes the schema files it embeds (generate-json-schema, generate-ts).
func WriteDir(fsys fs.FS, dir string) error {
	return fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}
