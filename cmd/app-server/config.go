package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"app-server/model"
	"app-server/netapproval"
	"app-server/protocol"
	"app-server/session"
)

// Config is config.toml (DESIGN.md, "Configuration"). Every key is
// optional; configKeys holds the defaults of missing keys. The toml tags
// are the config keys: loadConfig refuses any other key.
type Config struct {
	// ApprovalPolicy is the default command approval policy of new threads.
	ApprovalPolicy protocol.AskForApproval `toml:"approval_policy"`
	// Sandbox is the default sandbox of new threads.
	Sandbox protocol.SandboxMode `toml:"sandbox"`
	// SandboxMode is Codex's name for sandbox. decodeStrict folds it into
	// Sandbox, so it is always empty in a loaded Config.
	SandboxMode protocol.SandboxMode `toml:"sandbox_mode"`
	// Shell is the argv prefix a text input runs with; the command line is
	// appended as the last argument.
	Shell []string `toml:"shell"`
	// Network configures the managed proxy ([network]).
	Network NetworkConfig `toml:"network"`
	// Config holds Codex's model keys (model, model_provider,
	// [model_providers.<id>], model_reasoning_*), at the top level as in
	// a Codex config.toml (MODEL.md).
	model.Config
	// AllowUnenforcedSandbox runs commands without OS enforcement when
	// this machine cannot enforce their sandbox, instead of failing them.
	AllowUnenforcedSandbox bool `toml:"allow_unenforced_sandbox"`
	// SandboxWorkspaceWrite is the [sandbox_workspace_write] table.
	SandboxWorkspaceWrite SandboxWorkspaceWriteConfig `toml:"sandbox_workspace_write"`
	// ShellEnvironmentPolicy is the [shell_environment_policy] table.
	ShellEnvironmentPolicy ShellEnvironmentPolicyConfig `toml:"shell_environment_policy"`
}

// SandboxWorkspaceWriteConfig is the [sandbox_workspace_write] table
// (Codex's keys): what workspace-write may write besides the cwd.
type SandboxWorkspaceWriteConfig struct {
	WritableRoots       []string `toml:"writable_roots"`
	ExcludeSlashTmp     bool     `toml:"exclude_slash_tmp"`
	ExcludeTmpdirEnvVar bool     `toml:"exclude_tmpdir_env_var"`
}

// ShellEnvironmentPolicyConfig is the [shell_environment_policy] table
// (Codex's keys; experimental_use_profile is accepted and ignored, see
// codexOnlyKeys): which of the server's environment variables the commands
// it runs see. EnvPolicy returns it parsed. Exclude, IncludeOnly and
// Filters have no default, so that nil says the file does not give them:
// Codex refuses filters next to exclude or include_only, even empty ones.
type ShellEnvironmentPolicyConfig struct {
	// Inherit is "all", "core" or "none" (session.ParseEnvInherit).
	Inherit string `toml:"inherit"`
	// IgnoreDefaultExcludes false drops names containing KEY, SECRET or
	// TOKEN. Codex 0.169.0 defaults it to true (nothing dropped).
	IgnoreDefaultExcludes bool              `toml:"ignore_default_excludes"`
	Exclude               []string          `toml:"exclude"`
	Set                   map[string]string `toml:"set"`
	IncludeOnly           []string          `toml:"include_only"`
	// Filters maps a pattern to "include" or "exclude": Codex's newer
	// spelling of IncludeOnly and Exclude in one table.
	Filters map[string]string `toml:"filters"`
}

// EnvPolicy returns the session's policy of the table. It must be called
// on a validated configuration (loadConfig's result).
func (s *ShellEnvironmentPolicyConfig) EnvPolicy() session.EnvPolicy {
	p, err := s.envPolicy()
	if err != nil {
		panic("app-server: EnvPolicy on an unvalidated config: " + err.Error())
	}
	return p
}

func (s *ShellEnvironmentPolicyConfig) envPolicy() (session.EnvPolicy, error) {
	const table = "shell_environment_policy"
	inherit, err := session.ParseEnvInherit(s.Inherit)
	if err != nil {
		return session.EnvPolicy{}, fmt.Errorf("%s.inherit = %q: %w", table, s.Inherit, err)
	}
	if s.Filters != nil && (s.Exclude != nil || s.IncludeOnly != nil) {
		return session.EnvPolicy{}, fmt.Errorf("%s: filters cannot be mixed with exclude or include_only (Codex refuses it too): keep one", table)
	}
	exclude, include := slices.Clone(s.Exclude), slices.Clone(s.IncludeOnly)
	seen := map[string]string{}
	for _, pat := range slices.Sorted(maps.Keys(s.Filters)) {
		if prev, dup := seen[strings.ToLower(pat)]; dup {
			return session.EnvPolicy{}, fmt.Errorf("%s.filters: %q and %q are the same pattern (patterns ignore case)", table, prev, pat)
		}
		seen[strings.ToLower(pat)] = pat
		switch s.Filters[pat] {
		case "include":
			include = append(include, pat)
		case "exclude":
			exclude = append(exclude, pat)
		default:
			return session.EnvPolicy{}, fmt.Errorf("%s.filters: %q = %q: want include or exclude", table, pat, s.Filters[pat])
		}
	}
	return session.EnvPolicy{
		Inherit: inherit, ExcludeSecrets: !s.IgnoreDefaultExcludes,
		Exclude: exclude, Set: maps.Clone(s.Set), IncludeOnly: include,
	}, nil
}

// NetworkConfig is the [network] table. Mode and ApprovalTimeoutDefault
// keep their config spelling; Policy returns them parsed.
type NetworkConfig struct {
	// Enabled turns the managed proxy on.
	Enabled bool `toml:"enabled"`
	// Mode is "full" or "limited" (netapproval.ParseMode).
	Mode string `toml:"mode"`
	// AllowedDomains and DeniedDomains are host patterns (NETWORK.md).
	AllowedDomains []string `toml:"allowed_domains"`
	DeniedDomains  []string `toml:"denied_domains"`
	// AllowLocalBinding turns off the protection of local and private
	// addresses.
	AllowLocalBinding bool `toml:"allow_local_binding"`
	// ApprovalTimeoutMs bounds each network prompt; 0 waits forever.
	ApprovalTimeoutMs int64 `toml:"approval_timeout_ms"`
	// ApprovalTimeoutDefault is "decline" or "accept"
	// (netapproval.ParseTimeoutDefault).
	ApprovalTimeoutDefault string `toml:"approval_timeout_default"`
}

// configKey is one config key: its dotted name, its default as a TOML value
// ("" for a key that is unset by default) and its one-line help.
type configKey struct {
	key, def, doc string
}

// configKeys is the one table of config keys and their defaults:
// defaultConfig decodes the defaults from it and --help prints it.
// TestConfigKeysDocumented checks that it lists exactly the toml tags of
// Config, in declaration order.
var configKeys = []configKey{
	{"approval_policy", `"on-request"`, "untrusted | on-request | never (see client --help: what prompts when)"},
	{"sandbox", `"workspace-write"`, "read-only | workspace-write | danger-full-access"},
	{"sandbox_mode", "", "Codex's name for sandbox"},
	{"shell", `["/bin/sh", "-c"]`, "argv prefix that runs a text input"},
	{"network.enabled", "true", "managed network proxy on; false: no network at all under read-only and workspace-write"},
	{"network.mode", `"full"`, "full | limited (read-only HTTP methods only)"},
	{"network.allowed_domains", "[]", "host patterns allowed without a prompt"},
	{"network.denied_domains", "[]", "host patterns always denied (\"*\" is refused)"},
	{"network.allow_local_binding", "false", "local and private addresses are prompted for instead of refused"},
	{"network.approval_timeout_ms", "0", "network prompt timeout; 0 waits forever"},
	{"network.approval_timeout_default", `"decline"`, "decline | accept, applied on timeout"},
	{"model", "", "model new threads use (unset: the shell agent runs each input as a command)"},
	{"model_provider", "", "provider id: openai (default), ollama, lmstudio or a [model_providers.<id>]"},
	{"model_reasoning_effort", "", "minimal | low | medium | high, sent as reasoning.effort"},
	{"model_reasoning_summary", "", "auto | concise | detailed | none, sent as reasoning.summary"},
	{"model_providers", "", "[model_providers.<id>] name, base_url, env_key, env_key_instructions, experimental_bearer_token, wire_api, http_headers, env_http_headers, query_params, request_max_retries, stream_max_retries, stream_idle_timeout_ms"},
	{"openai_base_url", "", "base URL of the built-in openai provider"},
	{"allow_unenforced_sandbox", "false", "run commands unsandboxed (with a warning) where the OS cannot enforce the sandbox"},
	{"sandbox_workspace_write.writable_roots", "[]", "absolute directories workspace-write may also write"},
	{"sandbox_workspace_write.exclude_slash_tmp", "false", "workspace-write does not write /tmp"},
	{"sandbox_workspace_write.exclude_tmpdir_env_var", "false", "workspace-write does not write $TMPDIR"},
	{"shell_environment_policy.inherit", `"all"`, "all | core (PATH, HOME, USER, SHELL, LANG, TMPDIR ...) | none: the server's variables commands start from"},
	{"shell_environment_policy.ignore_default_excludes", "true", "false: commands do not get variables whose names contain KEY, SECRET or TOKEN (any case)"},
	{"shell_environment_policy.exclude", "", "name patterns (* and ?, any case) commands do not get"},
	{"shell_environment_policy.set", "", "table of variables set for commands, after the excludes"},
	{"shell_environment_policy.include_only", "", "name patterns: commands get only these (set's too)"},
	{"shell_environment_policy.filters", "", "table pattern = \"include\" | \"exclude\", in place of include_only and exclude"},
}

// defaultConfig returns the configuration of an empty config.toml: the
// defaults of configKeys.
func defaultConfig() *Config {
	var doc strings.Builder
	for _, k := range configKeys {
		if k.def != "" {
			fmt.Fprintf(&doc, "%s = %s\n", k.key, k.def)
		}
	}
	cfg := &Config{}
	if _, errs := decodeStrict([]byte(doc.String()), cfg); errs != nil {
		panic(fmt.Sprintf("app-server: configKeys defaults: %s", errs[0].keyMsg()))
	}
	return cfg
}

// Policy returns the netapproval configuration of the [network] table. It
// must be called on a validated configuration (loadConfig's result).
func (n *NetworkConfig) Policy() netapproval.Config {
	cfg, err := n.policy()
	if err != nil {
		panic("app-server: Policy on an unvalidated config: " + err.Error())
	}
	return cfg
}

// Settings returns what network/settings/read reports for the [network]
// table. It must be called on a validated configuration.
func (n *NetworkConfig) Settings() protocol.NetworkSettingsReadResponse {
	pol := n.Policy()
	s := protocol.NetworkSettingsReadResponse{
		Enabled:                 n.Enabled,
		Mode:                    protocol.NetworkModeFull,
		AllowedDomains:          pol.AllowedDomains,
		DeniedDomains:           pol.DeniedDomains,
		AllowLocalBinding:       pol.AllowLocalBinding,
		ApprovalTimeoutMs:       n.ApprovalTimeoutMs,
		ApprovalTimeoutDecision: protocol.NetworkTimeoutDecline,
	}
	if pol.Mode == netapproval.ModeLimited {
		s.Mode = protocol.NetworkModeLimited
	}
	if pol.TimeoutDefault == netapproval.AnswerAllowOnce {
		s.ApprovalTimeoutDecision = protocol.NetworkTimeoutAccept
	}
	return s
}

func (n *NetworkConfig) policy() (netapproval.Config, error) {
	mode, err := netapproval.ParseMode(n.Mode)
	if err != nil {
		return netapproval.Config{}, fmt.Errorf("network.mode = %q: want full or limited", n.Mode)
	}
	td, err := netapproval.ParseTimeoutDefault(n.ApprovalTimeoutDefault)
	if err != nil {
		return netapproval.Config{}, fmt.Errorf("network.approval_timeout_default = %q: want decline or accept", n.ApprovalTimeoutDefault)
	}
	if n.ApprovalTimeoutMs < 0 {
		return netapproval.Config{}, fmt.Errorf("network.approval_timeout_ms = %d: must not be negative", n.ApprovalTimeoutMs)
	}
	return netapproval.Config{
		Mode:              mode,
		AllowedDomains:    slices.Clone(n.AllowedDomains),
		DeniedDomains:     slices.Clone(n.DeniedDomains),
		AllowLocalBinding: n.AllowLocalBinding,
		ApprovalTimeout:   time.Duration(n.ApprovalTimeoutMs) * time.Millisecond,
		TimeoutDefault:    td,
	}, nil
}

// Validate checks the values the TOML types do not: enums, the shell and the
// domain patterns. Errors name the key and the value.
func (c *Config) Validate() error {
	if err := checkEnum("approval_policy", c.ApprovalPolicy); err != nil {
		return err
	}
	if err := checkEnum("sandbox", c.Sandbox); err != nil {
		return err
	}
	if len(c.Shell) == 0 || c.Shell[0] == "" {
		return fmt.Errorf("shell = %q: must name a program", c.Shell)
	}
	pol, err := c.Network.policy()
	if err != nil {
		return err
	}
	if err := pol.Validate(); err != nil {
		return fmt.Errorf("network.%w", err)
	}
	for _, r := range c.SandboxWorkspaceWrite.WritableRoots {
		if !filepath.IsAbs(r) {
			return fmt.Errorf("sandbox_workspace_write.writable_roots: %q is not an absolute path", r)
		}
	}
	if _, err := c.ShellEnvironmentPolicy.envPolicy(); err != nil {
		return err
	}
	return c.Config.Validate()
}

// checkEnum refuses a value outside the protocol's closed set.
func checkEnum[T interface {
	~string
	protocol.Enum
}](key string, v T) error {
	values := v.EnumValues()
	if slices.Contains(values, string(v)) {
		return nil
	}
	return fmt.Errorf("%s = %q: want one of %s", key, string(v), strings.Join(values, ", "))
}

// loadConfig reads the config file at path over the defaults, then applies
// the -c overrides ("key=value") in order. A missing file is an error only
// if explicit is set (the user named it with --config). Errors name the
// file (with line and key for unknown keys) or the -c argument. ignored
// lists the Codex keys that were accepted but mean nothing here
// (codexOnlyKeys), in the order met, for the caller to log once.
func loadConfig(path string, explicit bool, overrides []string) (cfg *Config, ignored []string, err error) {
	cfg = defaultConfig()
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		// No config file: defaults.
	case err != nil:
		return nil, nil, fmt.Errorf("config: %w", err)
	default:
		ign, errs := decodeStrict(data, cfg)
		if errs != nil {
			msgs := make([]string, len(errs))
			for i, e := range errs {
				where := path
				if e.row > 0 { // a disagreement of two keys has no one line
					where = fmt.Sprintf("%s:%d", path, e.row)
				}
				msgs[i] = fmt.Sprintf("config %s: %s", where, e.keyMsg())
			}
			return nil, nil, errors.New(strings.Join(msgs, "\n"))
		}
		ignored = ign
		if err := cfg.Validate(); err != nil {
			return nil, nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	for _, o := range overrides {
		ign, err := applyOverride(cfg, o)
		if err != nil {
			return nil, nil, fmt.Errorf("-c %s: %w", o, err)
		}
		for _, k := range ign { // a key may be in the file and in -c
			if !slices.Contains(ignored, k) {
				ignored = append(ignored, k)
			}
		}
	}
	return cfg, ignored, nil
}

// codexApprovalPolicy maps Codex's deprecated "on-failure" to on-request,
// as the protocol does.
func codexApprovalPolicy(p protocol.AskForApproval) protocol.AskForApproval {
	if p == "on-failure" {
		return protocol.ApprovalOnRequest
	}
	return p
}

// decodeError is one problem go-toml found, with its line.
type decodeError struct {
	row     int
	key     string // dotted; empty for syntax errors
	unknown bool   // the key is not a config key
	msg     string
}

// keyMsg is the message prefixed with the key it is about.
func (e decodeError) keyMsg() string {
	if e.key == "" || e.unknown {
		return e.msg
	}
	return e.key + ": " + e.msg
}

// decodeStrict decodes a TOML document over cfg, refusing unknown keys
// except Codex's (codexOnlyKeys), which it returns as ignored. Codex's
// spellings are folded into ours: sandbox_mode into sandbox (a document
// giving both must agree), "on-failure" into on-request.
func decodeStrict(data []byte, cfg *Config) (ignored []string, errs []decodeError) {
	sandbox := cfg.Sandbox
	cfg.Sandbox = ""
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(cfg)
	var strict *toml.StrictMissingError
	var de *toml.DecodeError
	switch {
	case err == nil:
	case errors.As(err, &strict):
		for _, e := range strict.Errors {
			row, _ := e.Position()
			key := strings.Join(e.Key(), ".")
			if k := codexOnlyKey(e.Key()); k != "" {
				if !slices.Contains(ignored, k) {
					ignored = append(ignored, k)
				}
				continue
			}
			if why, ok := codexRefusedKeys[key]; ok {
				errs = append(errs, decodeError{row: row, key: key, msg: why})
				continue
			}
			errs = append(errs, decodeError{row: row, key: key, unknown: true, msg: unknownKey(key)})
		}
		if errs != nil {
			return nil, errs
		}
	case errors.As(err, &de):
		row, _ := de.Position()
		key := strings.Join(de.Key(), ".")
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if want := wantOf(key); want != "" {
			// go-toml names Go types; say what the key takes instead.
			got := ""
			if m := tomlKindRE.FindStringSubmatch(msg); m != nil {
				got = fmt.Sprintf(" (got a TOML %s)", m[1])
			}
			msg = fmt.Sprintf("want %s%s", want, got)
		}
		if (key == "approval_policy" || strings.HasPrefix(key, "approval_policy.")) && strings.Contains(msg, "table") {
			key, msg = "approval_policy", "want untrusted, on-request or never (Codex's granular approval policy is not supported here)"
		}
		return nil, []decodeError{{row: row, key: key, msg: msg}}
	default:
		return nil, []decodeError{{msg: err.Error()}}
	}
	if cfg.SandboxMode != "" {
		if err := checkEnum("sandbox_mode", cfg.SandboxMode); err != nil {
			return nil, []decodeError{{msg: err.Error()}}
		}
		if cfg.Sandbox != "" && cfg.Sandbox != cfg.SandboxMode {
			return nil, []decodeError{{msg: fmt.Sprintf("sandbox = %q and sandbox_mode = %q disagree: sandbox_mode is Codex's name for sandbox, keep one", cfg.Sandbox, cfg.SandboxMode)}}
		}
		cfg.Sandbox, cfg.SandboxMode = cfg.SandboxMode, ""
	}
	if cfg.Sandbox == "" {
		cfg.Sandbox = sandbox
	}
	cfg.ApprovalPolicy = codexApprovalPolicy(cfg.ApprovalPolicy)
	return ignored, nil
}

// applyOverride applies one -c key=value. The value is parsed as a TOML
// value ("false", "5000", `["a", "b"]`, `"quoted"`); if it does not parse,
// it is taken as a string, so "-c network.mode=limited" works unquoted.
func applyOverride(cfg *Config, arg string) (ignored []string, err error) {
	key, raw, ok := strings.Cut(arg, "=")
	if !ok {
		return nil, errors.New("want key=value")
	}
	path := strings.Split(strings.TrimSpace(key), ".")
	for _, p := range path {
		if p == "" || strings.IndexFunc(p, func(r rune) bool { return !isBareKeyRune(r) }) >= 0 {
			return nil, fmt.Errorf("bad key %q: want a dotted key such as network.mode", key)
		}
	}
	var value any = raw
	var probe map[string]any
	if toml.Unmarshal([]byte("v = "+raw), &probe) == nil && len(probe) == 1 {
		value = probe["v"]
	}
	doc := value
	for i := len(path) - 1; i >= 0; i-- {
		doc = map[string]any{path[i]: doc}
	}
	b, err := toml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	next := *cfg
	ignored, errs := decodeStrict(b, &next)
	if errs != nil {
		if errs[0].unknown {
			return nil, errors.New(errs[0].msg)
		}
		e := errs[0]
		if e.key != strings.Join(path, ".") {
			return nil, errors.New(e.keyMsg())
		}
		return nil, fmt.Errorf("%s = %s: %s", e.key, raw, e.msg)
	}
	if err := next.Validate(); err != nil {
		return nil, err
	}
	*cfg = next
	return ignored, nil
}

var tomlKindRE = regexp.MustCompile(`^cannot decode TOML (inline table|\w+)`)

// wantOf describes the TOML type the dotted config key takes, or "" if key
// is not a config key.
func wantOf(key string) string {
	t := reflect.TypeFor[Config]()
	for name := range strings.SplitSeq(key, ".") {
		switch t.Kind() {
		case reflect.Struct:
			// VisibleFields, not Field: the embedded model.Config's
			// fields come right after it, so indexes differ.
			fields := reflect.VisibleFields(t)
			i := slices.IndexFunc(fields, func(f reflect.StructField) bool { return f.Tag.Get("toml") == name })
			if i < 0 {
				return ""
			}
			t = fields[i].Type
		case reflect.Map: // a table of any keys: name is one of them
			t = t.Elem()
		default:
			return ""
		}
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int64:
		return "an integer"
	case reflect.Slice:
		return "an array of strings"
	case reflect.Map:
		if t.Elem().Kind() == reflect.String {
			return "a table of strings"
		}
		return "a table"
	case reflect.Struct:
		return "a table"
	}
	return ""
}

func isBareKeyRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}

// unknownKey says that key is not a config key and suggests the closest
// one: the key with the same last part ("allow_local_binding" is
// network.allow_local_binding), else one that begins with key
// ("network.allowed"), else the nearest in spelling if it is near enough
// to be a typo ("network.mod"), else a Codex key one edit away ("notifyy").
func unknownKey(key string) string {
	msg := fmt.Sprintf("unknown key %q", key)
	if k := closestKey(key); k != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", k)
	}
	return msg
}

func closestKey(key string) string {
	lastPart := func(k string) string { return k[strings.LastIndex(k, ".")+1:] }
	for _, k := range configKeys {
		if lastPart(k.key) == lastPart(key) {
			return k.key
		}
	}
	for _, k := range configKeys {
		if strings.HasPrefix(k.key, key) {
			return k.key
		}
	}
	best, bestDist := "", 3 // at most two edits
	for _, k := range configKeys {
		if d := editDistance(key, k.key); d < bestDist {
			best, bestDist = k.key, d
		}
	}
	if best != "" {
		return best
	}
	// A Codex-only key one edit away, the key or its table ("mcp_server"
	// in [mcp_server.docs]): a typo in a Codex config.toml is as likely.
	// One edit only: there are many of them, and short ones.
	first, _, _ := strings.Cut(key, ".")
	for _, pat := range codexOnlyKeys {
		k := strings.Join(pat, ".")
		if !slices.Contains(pat, "*") && (editDistance(key, k) <= 1 || len(pat) == 1 && editDistance(first, k) <= 1) {
			return k
		}
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in bytes (keys
// are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
