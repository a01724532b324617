package testsupport_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// Checking that a stream comes through byte for byte. In a test, use
// NewFakeAPITLS(t), which stops the fake in t.Cleanup.
func ExampleStartFakeAPI() {
	dir, cleanup := mkTemp()
	defer cleanup()
	fake, err := testsupport.StartFakeAPI("127.0.0.1:0", dir) // HTTPS + HTTP/2, CA in dir/ca.pem
	if err != nil {
		fmt.Println(err)
		return
	}
	defer fake.Close()
	// The code under test gets fake.URL and trusts fake.CAPath / fake.CertPool.
	req, _ := http.NewRequest(http.MethodPost, fake.URL+"/v1/messages", strings.NewReader(`{"stream":true}`))
	req.Header.Set(testsupport.ScenarioHeader, testsupport.ScenarioUTF8Split)
	resp, err := fake.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	got, _ := io.ReadAll(resp.Body)
	want, _ := testsupport.Body(testsupport.ScenarioUTF8Split)
	fmt.Println(bytes.Equal(got, want), fake.Requests()[0].Proto)
	// Output: true HTTP/2.0
}
