package oidc

import (
	"net/url"
	"testing"
)

func TestRequestedACR(t *testing.T) {
	cases := []struct {
		name      string
		form      url.Values
		want      acrRequest
		satisfied map[string]bool // session acr → satisfied
	}{
		{"nothing", url.Values{}, acrRequest{}, map[string]bool{"1": true, "2": true}},
		{"acr_values 2", url.Values{"acr_values": {"2"}}, acrRequest{level: 2}, map[string]bool{"1": false, "2": true}},
		{"acr_values 1 2: 1 will do", url.Values{"acr_values": {"1 2"}}, acrRequest{level: 1}, map[string]bool{"1": true, "2": true}},
		{"unknown classes only", url.Values{"acr_values": {"urn:x:gold silver"}}, acrRequest{}, map[string]bool{"1": true}},
		{"essential values", url.Values{"claims": {`{"id_token":{"acr":{"essential":true,"values":["2"]}}}`}},
			acrRequest{level: 2, essential: true}, map[string]bool{"1": false, "2": true}},
		{"essential value", url.Values{"claims": {`{"id_token":{"acr":{"essential":true,"value":"2"}}}`}},
			acrRequest{level: 2, essential: true}, map[string]bool{"1": false}},
		{"claims win over acr_values", url.Values{"acr_values": {"1"}, "claims": {`{"id_token":{"acr":{"values":["2"]}}}`}},
			acrRequest{level: 2}, map[string]bool{"1": false}},
		{"userinfo acr asks nothing", url.Values{"claims": {`{"userinfo":{"acr":{"essential":true,"value":"2"}}}`}},
			acrRequest{}, map[string]bool{"1": true}},
		{"malformed claims fall back", url.Values{"acr_values": {"2"}, "claims": {`{"id_token":`}}, acrRequest{level: 2}, map[string]bool{"1": false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := requestedACR(c.form)
			if got != c.want {
				t.Errorf("requestedACR = %+v, want %+v", got, c.want)
			}
			for acr, want := range c.satisfied {
				if s := got.satisfiedBy(acr); s != want {
					t.Errorf("satisfiedBy(%q) = %v, want %v", acr, s, want)
				}
			}
		})
	}
}
