package testsupport_test

import "os"

func mkTemp() (string, func()) {
	dir, err := os.MkdirTemp("", "fakeapi-example")
	return dir, func() {
		if err == nil {
			os.RemoveAll(dir)
		}
	}
}
