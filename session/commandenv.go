package session

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EnvInherit is where a command's environment starts
// ([shell_environment_policy] inherit).
type EnvInherit int

const (
	// InheritAll starts from the server's whole environment (Codex's
	// default).
	InheritAll EnvInherit = iota
	// InheritCore keeps only the platform's core variables (coreEnvVars).
	InheritCore
	// InheritNone starts from nothing.
	InheritNone
)

// envInheritNames are the config spellings of EnvInherit, in its order.
var envInheritNames = []string{"all", "core", "none"}

// ParseEnvInherit parses the config spelling of an EnvInherit (Codex's,
// lower case only, as Codex refuses "Core").
func ParseEnvInherit(s string) (EnvInherit, error) {
	if i := slices.Index(envInheritNames, s); i >= 0 {
		return EnvInherit(i), nil
	}
	return 0, fmt.Errorf("want one of %s", strings.Join(envInheritNames, ", "))
}

// coreEnvVars are the variables InheritCore keeps, compared ignoring case:
// Codex 0.169.0's lists (the Unix one is checked against its binary; the
// Windows one is its source's, unchecked). Without USERNAME on Unix.
var coreEnvVars = map[string][]string{
	"unix": {"PATH", "SHELL", "TMPDIR", "TEMP", "TMP", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "LOGNAME", "USER"},
	"windows": {"PATH", "PATHEXT", "SHELL", "COMSPEC", "SYSTEMROOT", "WINDIR", "SYSTEMDRIVE",
		"USERNAME", "USERDOMAIN", "USERPROFILE", "HOMEDRIVE", "HOMEPATH",
		"PROGRAMFILES", "PROGRAMFILES(X86)", "PROGRAMW6432", "PROGRAMDATA",
		"LOCALAPPDATA", "APPDATA", "TEMP", "TMP", "TMPDIR", "POWERSHELL", "PWSH"},
}

// defaultExcludes are the patterns EnvPolicy.ExcludeSecrets drops: Codex's
// default excludes, for names that look like credentials.
var defaultExcludes = []string{"*KEY*", "*SECRET*", "*TOKEN*"}

// EnvPolicy is Codex's [shell_environment_policy]: which of the server's
// environment variables the commands it runs (turn commands, model tool
// calls, command/exec) see. The zero value passes the whole environment,
// as Codex 0.169.0 does by default. What the server adds afterwards (the
// proxy variables and credential, command/exec's env) is not filtered.
//
// Apply's steps, in Codex's order: start from Inherit; drop the default
// excludes if ExcludeSecrets; drop Exclude; add Set; if IncludeOnly is not
// empty, keep only what it matches (Set's variables too). Patterns are
// globs over the whole name, * for any run of characters and ? for one
// (nothing else is special), compared ignoring case.
type EnvPolicy struct {
	Inherit EnvInherit
	// ExcludeSecrets drops names containing KEY, SECRET or TOKEN in any
	// case: Codex's ignore_default_excludes = false.
	ExcludeSecrets bool
	Exclude        []string
	Set            map[string]string
	IncludeOnly    []string
}

// Apply returns the environment ("NAME=value" entries) a command starts
// with, given the server's. The result is never nil: os/exec and the
// sandbox read a nil environment as the server's.
func (p EnvPolicy) Apply(env []string) []string {
	out := make([]string, 0, len(env)+len(p.Set))
	for _, kv := range env {
		name := envName(kv)
		if p.sets(name) || !p.inherits(name) ||
			p.ExcludeSecrets && matchAnyEnvPattern(defaultExcludes, name) || matchAnyEnvPattern(p.Exclude, name) {
			continue
		}
		out = append(out, kv)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Set)) {
		out = append(out, name+"="+p.Set[name])
	}
	if len(p.IncludeOnly) > 0 {
		out = slices.DeleteFunc(out, func(kv string) bool { return !matchAnyEnvPattern(p.IncludeOnly, envName(kv)) })
	}
	return out
}

// inherits reports whether Inherit starts from the variable.
func (p EnvPolicy) inherits(name string) bool {
	switch p.Inherit {
	case InheritNone:
		return false
	case InheritCore:
		core := coreEnvVars["unix"]
		if runtime.GOOS == "windows" {
			core = coreEnvVars["windows"]
		}
		return slices.ContainsFunc(core, func(c string) bool { return strings.EqualFold(c, name) })
	}
	return true
}

// sets reports whether Set replaces the variable: the same name, ignoring
// case on Windows (where names are).
func (p EnvPolicy) sets(name string) bool {
	if runtime.GOOS == "windows" {
		return slices.ContainsFunc(slices.Collect(maps.Keys(p.Set)), func(k string) bool { return strings.EqualFold(k, name) })
	}
	_, ok := p.Set[name]
	return ok
}

// envName is the name of an environment entry. Windows keeps per-drive
// directories in entries like "=C:=C:\dir", whose name starts with "=".
func envName(kv string) string {
	start := 0
	if strings.HasPrefix(kv, "=") {
		start = 1
	}
	if i := strings.IndexByte(kv[start:], '='); i >= 0 {
		return kv[:start+i]
	}
	return kv
}

func matchAnyEnvPattern(patterns []string, name string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matchEnvPattern(p, name) })
}

// matchEnvPattern reports whether the glob pattern matches the whole name,
// ignoring case: * matches any run of characters (none too), ? exactly one,
// every other character itself (no classes, no escapes: Codex's wildmatch
// patterns).
func matchEnvPattern(pattern, name string) bool {
	// Greedy with one backtrack point: the last * and where its match ends.
	starP, starN := -1, 0
	p, n := 0, 0
	for n < len(name) {
		nr, nw := utf8.DecodeRuneInString(name[n:])
		if p < len(pattern) {
			pr, pw := utf8.DecodeRuneInString(pattern[p:])
			switch {
			case pr == '*':
				starP, starN = p, n
				p += pw
				continue
			case pr == '?' || unicode.ToLower(pr) == unicode.ToLower(nr):
				p += pw
				n += nw
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last * take one more character and try again.
		_, w := utf8.DecodeRuneInString(name[starN:])
		starN += w
		p, n = starP+1, starN
	}
	return strings.Trim(pattern[p:], "*") == ""
}
