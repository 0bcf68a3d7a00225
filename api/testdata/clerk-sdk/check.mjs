// Drives orgid's management API with the real @clerk/backend SDK, as an
// application's backend would: createClerkClient pointed at orgid with an
// orgid secret key. Run by api/clerk_sdk_test.go with ORGID_API_URL (the
// issuer) and ORGID_SECRET_KEY; prints one JSON line and exits 0 when every
// check passes, else prints the failure and exits 1.
import { createClerkClient } from '@clerk/backend';

const apiUrl = process.env.ORGID_API_URL;
const secretKey = process.env.ORGID_SECRET_KEY;
const clerk = createClerkClient({ secretKey, apiUrl });

let checks = 0;
function check(cond, what, got) {
  checks++;
  if (!cond) {
    throw new Error(`${what}: got ${JSON.stringify(got)}`);
  }
}

async function expectError(promise, status, code, what) {
  try {
    await promise;
  } catch (err) {
    check(err.status === status, `${what}: status`, err.status);
    check(err.errors?.[0]?.code === code, `${what}: code`, err.errors);
    check(typeof err.clerkTraceId === 'string' && err.clerkTraceId !== '', `${what}: clerkTraceId`, err.clerkTraceId);
    return err;
  }
  throw new Error(`${what}: no error`);
}

// Users.
const created = await clerk.users.createUser({
  emailAddress: ['sdk@example.com'],
  password: 'a long and unguessable passphrase',
  firstName: 'Sdk',
  lastName: 'User',
  publicMetadata: { plan: 'pro', limits: { seats: 3, projects: 2 } },
});
check(created.id.startsWith('user_'), 'createUser id', created.id);
check(created.firstName === 'Sdk' && created.lastName === 'User', 'createUser names', created);
check(created.fullName === 'Sdk User', 'createUser fullName', created.fullName);
check(created.primaryEmailAddress?.emailAddress === 'sdk@example.com', 'createUser primaryEmailAddress', created.primaryEmailAddress);
check(created.passwordEnabled === true, 'createUser passwordEnabled', created.passwordEnabled);
check(typeof created.createdAt === 'number' && created.createdAt > 1e12, 'createUser createdAt in ms', created.createdAt);

const fetched = await clerk.users.getUser(created.id);
check(fetched.id === created.id && fetched.publicMetadata.plan === 'pro', 'getUser', fetched);

await clerk.users.createUser({ emailAddress: ['second@example.com'] });
const list = await clerk.users.getUserList({ limit: 1 });
check(list.totalCount === 2, 'getUserList totalCount', list.totalCount);
check(list.data.length === 1 && list.data[0].primaryEmailAddress?.emailAddress === 'second@example.com', 'getUserList newest first', list.data);
const filtered = await clerk.users.getUserList({ emailAddress: ['SDK@example.com'] });
check(filtered.totalCount === 1 && filtered.data[0].id === created.id, 'getUserList by email', filtered);

const merged = await clerk.users.updateUserMetadata(created.id, {
  publicMetadata: { limits: { seats: 5, projects: null }, tier: 'gold' },
  privateMetadata: { crm: 'c-1' },
});
const pub = merged.publicMetadata;
check(pub.plan === 'pro' && pub.tier === 'gold' && pub.limits.seats === 5 && !('projects' in pub.limits),
  'updateUserMetadata deep merge (null removes)', pub);
check(merged.privateMetadata.crm === 'c-1', 'updateUserMetadata privateMetadata', merged.privateMetadata);

await expectError(clerk.users.getUser('user_doesnotexist'), 404, 'resource_not_found', 'getUser unknown');
await expectError(clerk.users.createUser({ emailAddress: ['sdk@example.com'] }), 409, 'form_identifier_exists', 'createUser taken');

// Organizations.
const org = await clerk.organizations.createOrganization({ name: 'SDK Org', createdBy: created.id, maxAllowedMemberships: 10 });
check(org.id.startsWith('org_') && org.slug === 'sdk-org', 'createOrganization', org);
check(org.membersCount === 1 && org.maxAllowedMemberships === 10, 'createOrganization counts', org);
const byID = await clerk.organizations.getOrganization({ organizationId: org.id });
const bySlug = await clerk.organizations.getOrganization({ slug: 'sdk-org' });
check(byID.id === org.id && bySlug.id === org.id && byID.name === 'SDK Org', 'getOrganization', [byID, bySlug]);

const second = (await clerk.users.getUserList({ emailAddress: ['second@example.com'] })).data[0];
const membership = await clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: second.id, role: 'org:member' });
check(membership.role === 'org:member' && membership.organization.id === org.id, 'createOrganizationMembership', membership);
check(membership.publicUserData?.userId === second.id && membership.publicUserData?.identifier === 'second@example.com',
  'createOrganizationMembership publicUserData', membership.publicUserData);

const members = await clerk.organizations.getOrganizationMembershipList({ organizationId: org.id });
check(members.totalCount === 2 && members.data.length === 2, 'getOrganizationMembershipList', members);
const roles = members.data.map((m) => `${m.publicUserData.userId}=${m.role}`).sort();
check(JSON.stringify(roles) === JSON.stringify([`${created.id}=org:owner`, `${second.id}=org:member`].sort()), 'membership roles', roles);
check(members.data.every((m) => Array.isArray(m.permissions)), 'membership permissions', members.data);

await expectError(clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: second.id, role: 'org:member' }),
  409, 'already_a_member_in_organization', 'createOrganizationMembership again');

// The JWKS the SDK verifies session tokens with.
const jwks = await clerk.jwks.getJwks();
check(Array.isArray(jwks.keys) && jwks.keys.length > 0 && jwks.keys.every((k) => k.kid && k.kty), 'getJwks', jwks);

// A wrong key is refused in the error envelope.
const stranger = createClerkClient({ secretKey: 'sk_live_not_a_key', apiUrl });
await expectError(stranger.users.getUser(created.id), 401, 'authentication_invalid', 'wrong secret key');

console.log(JSON.stringify({ ok: true, checks }));
