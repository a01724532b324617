package ui

import (
	"bufio"
	"bytes"
	"encoding/json"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// TrapKind names a known setup trap.
type TrapKind string

const (
	// TrapHTTPSProxy: HTTPS_PROXY is set; Claude Code then sends even
	// 127.0.0.1 traffic to it (NO_PROXY is ignored for the base URL).
	TrapHTTPSProxy TrapKind = "https_proxy"
	// TrapSocksProxy: HTTPS_PROXY holds a socks URL; Claude Code crashes.
	TrapSocksProxy TrapKind = "socks_https_proxy"
	// TrapBaseURLElsewhere: ANTHROPIC_BASE_URL points somewhere other than
	// Ferry.
	TrapBaseURLElsewhere TrapKind = "base_url_elsewhere"
	// TrapStaleToken: a Ferry local token that is not the current one.
	TrapStaleToken TrapKind = "stale_token"
)

// SessionEnvironment is the Where of findings from the environment Ferry
// itself was started with.
const SessionEnvironment = "session environment"

// localTokenPrefix starts every Ferry local token (proxy/app makes
// "sk-ferry-" + 48 hex digits).
const localTokenPrefix = "sk-ferry-"

// Trap is one problem found by CheckSetup.
type Trap struct {
	Kind TrapKind
	// Where is the file (absolute path) or SessionEnvironment.
	Where string
	// Var is the variable name; Value its value, with tokens shortened.
	Var, Value string
}

// SetupInput is what CheckSetup looks at.
type SetupInput struct {
	// Home is the user's home folder; shell start-up files and
	// ~/.claude/settings.json are read from it.
	Home string
	// Getenv reads the session environment; nil skips it.
	Getenv func(string) string
	// BaseURL and LocalToken are Ferry's current ones.
	BaseURL, LocalToken string
}

// shellFiles are the start-up files read, relative to the home folder.
var shellFiles = []string{".bashrc", ".bash_profile", ".profile", ".zshrc", ".zprofile", ".zshenv", ".config/fish/config.fish"}

// watched are the variables the checker cares about.
var watched = []string{"HTTPS_PROXY", "https_proxy", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"}

var (
	// export NAME=value, NAME=value, declare -x NAME=value (bash, zsh).
	posixAssign = regexp.MustCompile(`^\s*(?:export\s+|declare\s+-x\s+|typeset\s+-x\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)
	// set -gx NAME value, set -Ux NAME value, set --export NAME value (fish).
	fishSet = regexp.MustCompile(`^\s*set\s+(?:-[a-zA-Z]+\s+|--[a-z]+\s+)*([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$`)
)

// CheckSetup reads where a tray app's clients get their settings (shell
// start-up files, ~/.claude/settings.json's env block, the session
// environment) and returns the known traps, in a stable order. A tray app
// started at login does not see the shell's variables, so it reads the
// files themselves. Unreadable or missing files are skipped.
func CheckSetup(in SetupInput) []Trap {
	var traps []Trap
	for _, rel := range shellFiles {
		p := filepath.Join(in.Home, filepath.FromSlash(rel))
		vars, err := readShellFile(p, strings.HasSuffix(rel, ".fish"))
		if err != nil {
			continue
		}
		traps = append(traps, checkVars(in, p, vars)...)
	}
	settings := filepath.Join(in.Home, ".claude", "settings.json")
	if vars, err := readClaudeSettings(settings); err == nil {
		traps = append(traps, checkVars(in, settings, vars)...)
	}
	if in.Getenv != nil {
		vars := map[string]string{}
		for _, k := range watched {
			if v := in.Getenv(k); v != "" {
				vars[k] = v
			}
		}
		traps = append(traps, checkVars(in, SessionEnvironment, vars)...)
	}
	return traps
}

func readShellFile(path string, fish bool) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		re := posixAssign
		if fish {
			re = fishSet
		}
		// Several assignments on one export line: export A=1 B=2.
		for _, part := range splitAssignments(line, fish) {
			m := re.FindStringSubmatch(part)
			if m == nil {
				continue
			}
			if slicesContains(watched, m[1]) {
				vars[m[1]] = unquote(m[2])
			}
		}
	}
	return vars, nil
}

// splitAssignments splits "export A=1 B='x y'" into "export A=1" and
// "B='x y'" so each can be matched; fish lines stay whole.
func splitAssignments(line string, fish bool) []string {
	if fish {
		return []string{line}
	}
	var parts []string
	var cur strings.Builder
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (cur.Len() == 0 || strings.HasSuffix(cur.String(), " ")):
			// A comment ends the line.
			return appendPart(parts, cur.String())
		case r == ';':
			parts = appendPart(parts, cur.String())
			cur.Reset()
			continue
		case r == ' ' || r == '\t':
			s := cur.String()
			if strings.Contains(s, "=") {
				parts = appendPart(parts, s)
				cur.Reset()
				continue
			}
		}
		cur.WriteRune(r)
	}
	return appendPart(parts, cur.String())
}

func appendPart(parts []string, s string) []string {
	if strings.TrimSpace(s) == "" {
		return parts
	}
	return append(parts, s)
}

func unquote(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, " #"); i >= 0 && !strings.HasPrefix(v, "'") && !strings.HasPrefix(v, `"`) {
		v = strings.TrimSpace(v[:i])
	}
	v = strings.TrimSuffix(v, ";")
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		v = v[1 : len(v)-1]
	}
	return v
}

func readClaudeSettings(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s struct {
		Env map[string]any `json:"env"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for k, v := range s.Env {
		if str, ok := v.(string); ok && slicesContains(watched, k) {
			vars[k] = str
		}
	}
	return vars, nil
}

func checkVars(in SetupInput, where string, vars map[string]string) []Trap {
	var traps []Trap
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		v := vars[k]
		if v == "" {
			continue
		}
		switch k {
		case "HTTPS_PROXY", "https_proxy":
			kind := TrapHTTPSProxy
			if u, err := url.Parse(v); err == nil && strings.HasPrefix(strings.ToLower(u.Scheme), "socks") {
				kind = TrapSocksProxy
			}
			// Shown in the setup help: the proxy's password is masked
			// (issue 14), as everywhere else Ferry shows a proxy URL.
			traps = append(traps, Trap{Kind: kind, Where: where, Var: k, Value: maskProxyURL(v)})
		case "ANTHROPIC_BASE_URL":
			if !SameFerryURL(v, in.BaseURL) {
				traps = append(traps, Trap{Kind: TrapBaseURLElsewhere, Where: where, Var: k, Value: v})
			}
		case "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN":
			if strings.HasPrefix(v, localTokenPrefix) && v != in.LocalToken {
				traps = append(traps, Trap{Kind: TrapStaleToken, Where: where, Var: k, Value: ShortToken(v)})
			}
		}
	}
	return traps
}

// SameFerryURL reports whether a base URL reaches Ferry at ours: same
// port, a loopback host (127.0.0.1, localhost, ::1 are all Ferry when it
// listens on loopback), trailing slashes ignored.
func SameFerryURL(v, ours string) bool {
	a, err1 := url.Parse(strings.TrimRight(v, "/"))
	b, err2 := url.Parse(strings.TrimRight(ours, "/"))
	if err1 != nil || err2 != nil {
		return false
	}
	if a.Scheme != b.Scheme || a.Port() != b.Port() || strings.TrimRight(a.Path, "/") != strings.TrimRight(b.Path, "/") {
		return false
	}
	return a.Hostname() == b.Hostname() || isLoopback(a.Hostname()) && isLoopback(b.Hostname())
}

func isLoopback(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// ShortToken shows the start and end of a token only.
func ShortToken(t string) string {
	if len(t) <= 16 {
		return t[:min(len(t), 4)] + "…"
	}
	return t[:13] + "…" + t[len(t)-4:]
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// maskProxyURL shows a proxy URL with its password replaced by "***"
// (socks5://alice:***@host:1080), as proxy/route masks a route's URL; ui
// may not import proxy/route, so the rule is repeated here. A value that
// does not parse keeps only what follows its last '@'.
func maskProxyURL(v string) string {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || u.Host == "" {
		if at := strings.LastIndex(v, "@"); at >= 0 {
			return "***@" + v[at+1:]
		}
		return v
	}
	if u.User == nil {
		return v
	}
	if _, ok := u.User.Password(); ok {
		return u.Scheme + "://" + url.PathEscape(u.User.Username()) + ":***@" + u.Host
	}
	return v
}
