package usage

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// agreesWithJSON checks the promise of apiUsage.decode on b: whenever
// json.Unmarshal accepts b, decode accepts it and yields the same usage.
// It returns decode's own verdict.
func agreesWithJSON(t *testing.T, b []byte) error {
	t.Helper()
	var want, got apiUsage
	jerr := json.Unmarshal(b, &want)
	err := got.decode(b)
	if jerr != nil {
		return err
	}
	if err != nil {
		t.Fatalf("%q: decode failed (%v), json.Unmarshal gave %s", b, err, show(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decode gave %s, json.Unmarshal %s", b, show(got), show(want))
	}
	return nil
}

// framesAgreeWithJSON checks the frames applyPending reads, with b as
// their usage, against the structs it used to hand json.Unmarshal.
func framesAgreeWithJSON(t *testing.T, b []byte) {
	t.Helper()
	start := []byte(`{"type":"message_start","message":{"id":"msg_1","content":[],"model":"claude-opus-4-5","usage":` + string(b) + `}}`)
	var wantStart struct {
		Message struct {
			Model string    `json:"model"`
			Usage *apiUsage `json:"usage"`
		} `json:"message"`
	}
	var f startFrame
	if err := f.decode(start); json.Unmarshal(start, &wantStart) == nil {
		if err != nil || f.model != wantStart.Message.Model || !reflect.DeepEqual(f.usage, wantStart.Message.Usage) {
			t.Fatalf("%q: message_start gave %q %s (%v), json.Unmarshal %q %s", start,
				f.model, show(f.usage), err, wantStart.Message.Model, show(wantStart.Message.Usage))
		}
	}
	delta := []byte(`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":` + string(b) + `}`)
	var wantDelta struct {
		Usage *apiUsage `json:"usage"`
	}
	u, err := deltaUsage(delta)
	if json.Unmarshal(delta, &wantDelta) == nil && (err != nil || !reflect.DeepEqual(u, wantDelta.Usage)) {
		t.Fatalf("%q: message_delta gave %s (%v), json.Unmarshal %s", delta, show(u), err, show(wantDelta.Usage))
	}
}

// show prints a usage with its pointers followed.
func show(u any) string {
	b, err := json.Marshal(u)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestUsageDecode(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"message_start", `{"input_tokens":25,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}`, true},
		{"message_delta", `{"output_tokens":15}`, true},
		{"every field", `{"input_tokens":1200,"cache_creation_input_tokens":3000,"cache_read_input_tokens":10000,` +
			`"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000},"output_tokens":350,` +
			`"server_tool_use":{"web_search_requests":2,"web_fetch_requests":1},"service_tier":"standard","inference_geo":"us","speed":"fast"}`, true},
		{"nulls are absent", `{"input_tokens":null,"cache_creation":null,"server_tool_use":null,"service_tier":null,"output_tokens":2}`, true},
		{"null object", `null`, true},
		{"empty object", ` { } `, true},
		{"negative kept", `{"input_tokens":-5,"output_tokens":-0}`, true},
		{"largest int64", `{"input_tokens":9223372036854775807}`, true},
		{"unknown keys skipped", `{"future":{"a":[1,"}"]},"input_tokens":3,"x":1.5e3}`, true},
		{"keys fold as in json", `{"INPUT_TOKENS":1,"Output_Tokens":2,"cache_creation":{"EPHEMERAL_1H_INPUT_TOKENS":3},"Service_Tier":"batch"}`, true},
		{"Kelvin sign and long s fold", "{\"cache_read_input_to\u212aens\":4,\"\u017Fpeed\":\"fast\"}", true},
		{"escaped key", `{"input\u005ftokens":7,"\u0073peed":"x"}`, true},
		{"escaped strings", `{"service_tier":"stan\"dard\\","inference_geo":"caf\u00e9 \ud83d\ude00","speed":"\/"}`, true},
		{"invalid UTF-8 in a string", "{\"speed\":\"f\xffst\"}", true},
		{"last duplicate wins", `{"output_tokens":1,"output_tokens":2,"input_tokens":3,"input_tokens":null}`, true},
		{"duplicate objects merge", `{"cache_creation":{"ephemeral_5m_input_tokens":1},"cache_creation":{"ephemeral_1h_input_tokens":2}}`, true},
		{"null after an object clears it", `{"server_tool_use":{"web_search_requests":1},"server_tool_use":null}`, true},
		{"fraction", `{"output_tokens":1.5}`, false},
		{"integral fraction", `{"output_tokens":1.0}`, false},
		{"exponent", `{"output_tokens":1e3}`, false},
		{"overflow", `{"input_tokens":9223372036854775808}`, false},
		{"count as string", `{"input_tokens":"5"}`, false},
		{"count as bool", `{"input_tokens":true}`, false},
		{"nested count as float", `{"cache_creation":{"ephemeral_1h_input_tokens":2.5}}`, false},
		{"tier as number", `{"service_tier":1}`, false},
		{"tier as object", `{"service_tier":{}}`, false},
		{"nested object as array", `{"cache_creation":[1]}`, false},
		{"nested object as number", `{"server_tool_use":1}`, false},
		{"not an object", `[{"input_tokens":1}]`, false},
		{"number", `5`, false},
		{"truncated", `{"input_tokens":1,"output_tokens":2`, false},
		{"trailing bytes", `{"input_tokens":1}x`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var u apiUsage
			if tc.ok && json.Unmarshal([]byte(tc.in), &u) != nil {
				t.Fatal("json.Unmarshal refuses it: nothing to agree with")
			}
			if err := agreesWithJSON(t, []byte(tc.in)); (err == nil) != tc.ok {
				t.Errorf("decode error %v, want ok=%v", err, tc.ok)
			}
			framesAgreeWithJSON(t, []byte(tc.in))
		})
	}
}

// TestUsageKeysAreTheTags: a field added to a usage type needs its key,
// and its case in decode, which TestUsageDecode's "every field" then checks.
func TestUsageKeysAreTheTags(t *testing.T) {
	for _, tc := range []struct {
		typ  any
		keys []string
	}{
		{apiUsage{}, usageKeys},
		{apiCacheCreation{}, cacheCreationKeys},
		{apiServerToolUse{}, serverToolUseKeys},
	} {
		rt := reflect.TypeOf(tc.typ)
		var tags []string
		for i := range rt.NumField() {
			tags = append(tags, rt.Field(i).Tag.Get("json"))
		}
		if !slices.Equal(tags, tc.keys) {
			t.Errorf("%s: keys %q, json tags %q", rt.Name(), tc.keys, tags)
		}
	}
}

// usageSeeds are the usage objects of the recorded streams and batch
// results in testdata, byte for byte as the API sent them.
func usageSeeds(t testing.TB) [][]byte {
	files, _ := filepath.Glob("testdata/*.sse")
	jsonl, _ := filepath.Glob("testdata/*.jsonl")
	files = append(files, jsonl...)
	var seeds [][]byte
	var find func(raw json.RawMessage)
	find = func(raw json.RawMessage) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return
		}
		for k, v := range obj {
			if k == "usage" && len(v) > 0 && v[0] == '{' {
				seeds = append(seeds, v)
			}
			find(v)
		}
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			find(bytes.TrimPrefix(sc.Bytes(), []byte("data: ")))
		}
		f.Close()
	}
	if len(seeds) < 5 {
		t.Fatalf("only %d usage objects in testdata", len(seeds))
	}
	return seeds
}

func FuzzUsageDecode(f *testing.F) {
	for _, s := range usageSeeds(f) {
		f.Add(s)
	}
	for _, s := range []string{
		// The shapes ../shared/anthropic-api.md documents.
		`{"input_tokens":25,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}`,
		`{"output_tokens":15}`,
		`{"input_tokens":2095,"cache_creation_input_tokens":2051,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":2051},"output_tokens":503,"server_tool_use":{"web_search_requests":1,"web_fetch_requests":0},"service_tier":"standard","inference_geo":"global","speed":"standard"}`,
		`{"input_tokens":null,"cache_creation_input_tokens":3000,"cache_read_input_tokens":10000,"output_tokens":420}`,
		// What json.Unmarshal has rules for.
		`{"Input_Tokens":1,"input\u005ftokens":2,"cache_creation":{"ephemeral_5m_input_tokens":1},"cache_creation":{"EPHEMERAL_1H_INPUT_TOKENS":2}}`,
		"{\"cache_read_input_to\u212aens\":4,\"\u017Fpeed\":\"f\\u00e9\\\"\xff\"}",
		`{"output_tokens":1.5,"input_tokens":1e3,"speed":7}`,
		`{"input_tokens":-9223372036854775808,"output_tokens":9223372036854775808}`,
		`{"input_tokens":10,"output_tokens":5,"iterations":[{"type":"compaction","model":"claude-sonnet-4-6","input_tokens":100,"output_tokens":20},{"type":"message","input_tokens":10,"output_tokens":5}]}`,
		`{"iterations" : [ 1 ] , "ITERATIONS":null}`, `{"iterations":{"a":[]},"speed":"fast"}`,
		` null `, `{}`, `[]`, `{"server_tool_use":null,"server_tool_use":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		agreesWithJSON(t, b)
		framesAgreeWithJSON(t, b)
	})
}
