package route_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ferry-gateway/ferry/proxy/route"
)

func ExampleParse() {
	r, err := route.Parse("Office SOCKS", "socks5://alice:s3cret@10.0.0.7:1080")
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Name, r.Masked())

	_, err = route.Parse("Broken", "socks4://10.0.0.7:1080")
	fmt.Println(errors.Is(err, route.ErrInvalidRoute), err)
	// Output:
	// Office SOCKS socks5://alice:***@10.0.0.7:1080
	// true invalid route: unsupported scheme "socks4" (want socks5, http or https)
}

// A dial failure tells where it happened, for an error message that points
// at the right thing.
func ExampleDialError() {
	r, _ := route.Parse("Home HTTP", "http://bob:pw@127.0.0.1:1")
	up, _ := route.NewUpstream(r, route.DialOptions{})
	_, err := (&http.Client{Transport: up.Transport}).Get("https://api.anthropic.com/v1/models")
	var de *route.DialError
	if errors.As(err, &de) {
		fmt.Println(de.Route, de.Proxy, de.Target)
		fmt.Println(de.Stage == route.StageProxyConnect)
	}
	// Output:
	// Home HTTP http://bob:***@127.0.0.1:1 api.anthropic.com:443
	// true
}
