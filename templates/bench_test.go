package templates

import "testing"

// A typical template: a few shortcodes, a fallback, an interpolation and a
// metadata object. Rendering runs once per token issued.
const benchTemplate = `{"aud": "https://api.example.com", "email": "{{user.email}}",
	"name": "{{user.first_name}} {{user.last_name}}", "handle": "{{user.username || user.email || 'anonymous'}}",
	"org": {"id": "{{org.id}}", "role": "{{org.role}}", "permissions": "{{org.permissions}}"},
	"meta": "{{user.public_metadata}}"}`

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse([]byte(benchTemplate)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	tmpl, err := Parse([]byte(benchTemplate))
	if err != nil {
		b.Fatal(err)
	}
	d := fullData()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderPreset(b *testing.B) {
	p, _ := Preset(PresetClerkSessionV2)
	d := fullData()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Render(d); err != nil {
			b.Fatal(err)
		}
	}
}
