// Package reply writes the answers Ferry gives itself: Anthropic's error
// shape ({"type":"error","error":{"type":…,"message":…}}) with the
// X-Ferry-Error header, and the indented, never-cached JSON of every admin
// endpoint. It is a leaf: the proxy, the usage read side and the app's
// admin handlers all write through it, so every refusal and every admin
// answer looks the same whichever package wrote it.
//
// It imports only the standard library and must stay that way: packages
// that may not import package proxy (proxy/usage) use it.
package reply
