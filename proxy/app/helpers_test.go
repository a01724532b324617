package app

// testConfig is a core on dir with a free loopback port, direct, and
// no OS keychain.
func testConfig(dir string) Config {
	return Config{DataDir: dir, Listen: "127.0.0.1:0", Via: "direct", Getenv: func(k string) string {
		if k == "FERRY_KEYRING" {
			return "off"
		}
		return ""
	}}
}
