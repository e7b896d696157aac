package main

import (
	"slices"
	"strings"
)

// codexOnlyKeys are the keys Codex 0.169.0 reads from its config.toml that
// mean nothing to this server (its TUI, MCP servers, project trust, history
// file, notifications, feature flags, ...). loadConfig accepts them, so a
// user's Codex config.toml loads as it is, and logs one notice naming the
// ones it ignored; any other unknown key is still an error. A key covers
// the whole table under it; "*" stands for any one key (a provider or
// profile id). Keys Codex and this server share are Config's own fields
// (sandbox_mode, approval_policy, the model keys ...), not here.
//
// The list is Codex's ConfigToml (its config.schema.json and the field
// names in the 0.169.0 binary); keys older Codex versions read and 0.169.0
// no longer knows are unknown here too.
var codexOnlyKeys = parseKeyPatterns(
	// Top level.
	"agents", "allow_login_shell", "allow_symlinked_codex_home", "analytics",
	"approvals_reviewer", "apps", "apps_mcp_product_sku", "audio", "auto_review",
	"background_terminal_max_timeout", "chatgpt_base_url", "check_for_update_on_startup",
	"cli_auth_credentials_store", "cloud", "compact_prompt", "debug",
	"default_permissions", "desktop", "developer_instructions", "disable_paste_burst",
	"experimental_compact_prompt_file", "experimental_realtime_start_instructions",
	"experimental_realtime_webrtc_call_base_url", "experimental_realtime_ws_backend_prompt",
	"experimental_realtime_ws_base_url", "experimental_realtime_ws_model",
	"experimental_realtime_ws_startup_context", "experimental_thread_store",
	"experimental_thread_store_endpoint", "experimental_use_unified_exec_tool",
	"features", "feedback", "file_opener", "forced_chatgpt_workspace_id",
	"forced_login_method", "ghost_snapshot", "hide_agent_reasoning", "history", "hooks",
	"include_apps_instructions", "include_collaboration_mode_instructions",
	"include_environment_context", "include_permissions_instructions", "instructions",
	"js_repl_node_module_dirs", "js_repl_node_path", "log_dir", "marketplaces",
	"mcp_enterprise_managed_auth", "mcp_oauth_callback_port", "mcp_oauth_callback_url",
	"mcp_oauth_credentials_store", "mcp_optional_startup_grace_ms", "mcp_servers",
	"memories", "model_auto_compact_token_limit", "model_auto_compact_token_limit_scope",
	"model_catalog_json", "model_context_window", "model_instructions_file",
	"model_post_turn_compact_threshold_percent", "model_verbosity", "notice", "notify",
	"orchestrator", "oss_provider", "otel", "permissions", "personality",
	"plan_mode_reasoning_effort", "plugins", "profiles", "project_doc_fallback_filenames",
	"project_doc_max_bytes", "project_root_markers", "projects", "realtime",
	"responses_api_metadata", "review_model", "service_tier", "show_raw_agent_reasoning", "skills", "sqlite_home", "suppress_unstable_features_warning",
	"thread_unload_delay_secs", "tool_output_token_limit", "tool_suggest", "tools", "tui",
	"web_search", "windows",
	// [sandbox_workspace_write]: the network goes through [network] here.
	"sandbox_workspace_write.network_access",
	// [shell_environment_policy]: commands run with the configured shell
	// (key shell), never through the user's shell profile.
	"shell_environment_policy.experimental_use_profile",
	// [model_providers.<id>] (ModelProviderInfo).
	"model_providers.*.auth", "model_providers.*.aws", "model_providers.*.credential_file",
	"model_providers.*.gateway_oauth",
	"model_providers.*.model_catalog_url", "model_providers.*.supports_standalone_web_search",
	"model_providers.*.supports_websockets", "model_providers.*.websocket_connect_timeout_ms",
)

// codexRefusedKeys are keys Codex 0.169.0 itself refuses, with the reason:
// such a file does not work with Codex either.
var codexRefusedKeys = map[string]string{
	"profile": "Codex 0.169.0 no longer reads the legacy profile selector (it refuses it too): move the profile's keys to the top level",
}

// parseKeyPatterns splits dotted key patterns into their parts.
func parseKeyPatterns(keys ...string) [][]string {
	out := make([][]string, len(keys))
	for i, k := range keys {
		out[i] = strings.Split(k, ".")
	}
	return out
}

// codexOnlyKey returns the Codex-only key the key path (as go-toml reports
// an unknown key: the parts of its dotted name) is or lies under, as a
// dotted name ("mcp_servers" for mcp_servers.docs.env), or "" if it is
// none of codexOnlyKeys.
func codexOnlyKey(path []string) string {
	for _, pat := range codexOnlyKeys {
		if len(path) >= len(pat) && slices.EqualFunc(pat, path[:len(pat)], func(p, k string) bool { return p == "*" || p == k }) {
			return strings.Join(path[:len(pat)], ".")
		}
	}
	return ""
}
