package oidc

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
)

// formPostScript submits the form_post response. It is the only script orgid
// sends; the page's Content-Security-Policy allows exactly this text by its
// hash, so the page works under a strict policy without 'unsafe-inline',
// and a <noscript> button covers browsers without JavaScript.
const formPostScript = `document.forms[0].submit();`

var formPostTemplate = template.Must(template.New("form_post").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Continue</title></head>
<body>
<form method="post" action="{{.RedirURL}}">
{{range $key, $values := .Parameters}}{{range $values}}<input type="hidden" name="{{$key}}" value="{{.}}">
{{end}}{{end}}<noscript><p>Continue to the application.</p><button type="submit">Continue</button></noscript>
</form>
<script>` + formPostScript + `</script>
</body>
</html>
`))

// formPostCSP allows nothing but the submitting script.
var formPostCSP = func() string {
	sum := sha256.Sum256([]byte(formPostScript))
	return "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'"
}()
