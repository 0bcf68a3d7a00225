package templates

// Bounds on what a template may contain and on the work one costs. Parse
// rejects a template that exceeds any of them, so a stored template can
// never make Parse or Render do unbounded work; Render additionally caps the
// size of what it produces, because metadata comes from users.
const (
	// MaxTemplateSize is the largest claims document Parse accepts, in bytes.
	MaxTemplateSize = 64 << 10
	// MaxDepth is the deepest nesting of objects and arrays; the claims
	// object itself is depth 1.
	MaxDepth = 16
	// MaxExpressions is the number of {{ … }} expressions a template may hold.
	MaxExpressions = 1000
	// MaxExpressionLength is the longest expression, in bytes, from the
	// opening {{ to the closing }}.
	MaxExpressionLength = 1024
	// MaxOperands is the number of operands one fallback chain may have.
	MaxOperands = 16
	// MaxPathSegments is the number of dot-separated segments a shortcode
	// path may have, root included (user.public_metadata.a.b.c is 5).
	MaxPathSegments = 16
	// MaxErrors is the number of validation errors reported; more are
	// summarised in a last entry.
	MaxErrors = 100
	// MaxRenderedSize caps the estimated size of one rendered claim set,
	// in bytes; Render fails with ErrTooLarge beyond it. It exceeds
	// MaxTemplateSize, so every template renders when the data is small;
	// the signer applies its own, smaller limit to whole tokens.
	MaxRenderedSize = 256 << 10
)
