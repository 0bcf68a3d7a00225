package oidc

// Pairwise subject identifiers (OpenID Connect Core §8.1): a client that
// registered subject_type=pairwise knows each user by a subject that is
// stable for its sector (the host of its sector_identifier_uri or of its
// redirect URIs) and different for every other sector, so that clients
// of different sectors cannot correlate users by sub.
//
// The subject is a keyed hash (the keyring's hash key, so the same master
// secret always gives the same subjects) of the sector and the user id.
// Inside orgid the session keeps the user id (Session.Subject); the
// pairwise value is what the client sees: the ID token's, the access
// token's, userinfo's and introspection's sub, and the logout token's.

// subjectFor returns the sub client knows userID by.
func (p *Provider) subjectFor(c *Client, userID string) string {
	return pairwiseSubject(p.secrets.Hash, c, userID)
}

// pairwiseSubject computes a client's subject with hash, the keyring's
// keyed hash; public clients see the user id.
func pairwiseSubject(hash func(string) string, c *Client, userID string) string {
	if c == nil || c.Metadata.SubjectType != SubjectPairwise || c.Metadata.SectorIdentifier == "" {
		return userID
	}
	return hash("pairwise-subject\x00" + c.Metadata.SectorIdentifier + "\x00" + userID)
}
