package templates

import "time"

// fullData is a user with everything set, an active organization and an
// impersonated session.
func fullData() Data {
	return Data{
		User: &User{
			ID:            "user_2maria",
			ExternalID:    "ext-42",
			FirstName:     "Maria",
			LastName:      "Doe",
			Username:      "maria",
			Email:         "maria@example.com",
			EmailVerified: true,
			ImageURL:      "https://img.example.com/maria.png",
			CreatedAt:     time.Date(2024, 1, 2, 3, 4, 5, 600_000_000, time.UTC),
			UpdatedAt:     time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC),
			PublicMetadata: map[string]any{
				"plan":      "pro",
				"age":       float64(30),
				"addresses": map[string]any{"home": "1 Main St", "work": "2 Side St"},
				"tags":      []any{"a", "b"},
				"empty":     "",
				"flag":      false,
				"x-y":       "hyphenated",
			},
			UnsafeMetadata: map[string]any{"theme": "dark"},
			Organizations:  map[string]string{"org_acme": "org:admin", "org_beta": "org:member"},
		},
		Org: &Org{
			ID:             "org_acme",
			Name:           "Acme <Corp> & Co",
			Slug:           "acme",
			ImageURL:       "https://img.example.com/acme.png",
			PublicMetadata: map[string]any{"tier": "enterprise"},
		},
		Membership: &Membership{
			Role:           "org:admin",
			Permissions:    []string{"org:projects:manage", "org:projects:read", "org:billing:read", "org:sys_memberships:manage"},
			PublicMetadata: map[string]any{"team": "core"},
		},
		Session: &Session{
			ID:    "sess_1",
			Actor: map[string]any{"sub": "user_operator", "iss": "https://orgid.example.com"},
		},
	}
}

// sparseData is a new user with only an id and an unverified email, no
// active organization and a plain session.
func sparseData() Data {
	return Data{
		User:    &User{ID: "user_2new", Email: "new@example.com"},
		Session: &Session{ID: "sess_2"},
	}
}
