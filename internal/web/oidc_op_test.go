package web_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// testIdP is a real OpenID provider (zitadel's op package) on 127.0.0.1,
// with the storage written here: clients, auth requests and codes in
// memory, one RSA signing key, and a login step that signs in whoever the
// test chose (idp.as) without a form.
type testIdP struct {
	issuer string

	mu       sync.Mutex
	key      *rsa.PrivateKey
	wrongKey *rsa.PrivateKey // signs instead of key when badSignature
	clients  map[string]*idpClient
	requests map[string]*idpRequest // by ID
	codes    map[string]string      // code → request ID
	next     idpUser                // whom the next login signs in
	// Misbehaviours, for the next tokens.
	badSignature bool
	badNonce     bool
	lifetime     time.Duration // ID token lifetime (negative: already expired)
}

// idpUser is a person at the identity provider and the claims its ID
// token carries besides sub, preferred_username and email.
type idpUser struct {
	sub, username, email string
	claims               map[string]any
}

type idpClient struct {
	id, secret, redirect string
	idp                  *testIdP
}

type idpRequest struct {
	oidc.AuthRequest
	id       string
	user     idpUser
	done     bool
	authTime time.Time
	idp      *testIdP
}

func newTestIdP(t *testing.T) *testIdP {
	t.Helper()
	idp := &testIdP{clients: map[string]*idpClient{}, requests: map[string]*idpRequest{}, codes: map[string]string{}, lifetime: 5 * time.Minute}
	var err error
	if idp.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if idp.wrongKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	idp.issuer = "http://" + srv.Listener.Addr().String()
	cfg := &op.Config{CodeMethodS256: true}
	if _, err := rand.Read(cfg.CryptoKey[:]); err != nil {
		t.Fatal(err)
	}
	provider, err := op.NewProvider(cfg, idp, op.StaticIssuer(idp.issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", idp.login)
	mux.Handle("/", provider)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return idp
}

// addClient registers a confidential client (client_secret_basic).
func (idp *testIdP) addClient(id, secret, redirect string) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.clients[id] = &idpClient{id: id, secret: secret, redirect: redirect, idp: idp}
}

// as makes u the person the next logins sign in, and clears misbehaviours.
func (idp *testIdP) as(u idpUser) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.next = u
	idp.badSignature, idp.badNonce, idp.lifetime = false, false, 5*time.Minute
}

func (idp *testIdP) set(fn func(idp *testIdP)) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	fn(idp)
}

// login is the identity provider's login page: it signs the chosen person
// in and returns to the provider's callback, which issues the code.
func (idp *testIdP) login(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	idp.mu.Lock()
	req := idp.requests[id]
	if req != nil {
		req.user, req.done, req.authTime = idp.next, true, time.Now()
	}
	idp.mu.Unlock()
	if req == nil {
		http.Error(w, "no such auth request", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, idp.issuer+"/authorize/callback?id="+url.QueryEscape(id), http.StatusFound)
}

var errIdPNotFound = errors.New("not found")

// op.AuthStorage.

func (idp *testIdP) CreateAuthRequest(_ context.Context, ar *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	req := &idpRequest{AuthRequest: *ar, id: rand.Text(), idp: idp}
	idp.requests[req.id] = req
	return req, nil
}

func (idp *testIdP) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	if req := idp.requests[id]; req != nil {
		return req, nil
	}
	return nil, errIdPNotFound
}

func (idp *testIdP) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	if req := idp.requests[idp.codes[code]]; req != nil {
		return req, nil
	}
	return nil, errIdPNotFound
}

func (idp *testIdP) SaveAuthCode(_ context.Context, id, code string) error {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.codes[code] = id
	return nil
}

// DeleteAuthRequest ends a request once its code is exchanged: a replayed
// code finds nothing.
func (idp *testIdP) DeleteAuthRequest(_ context.Context, id string) error {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	delete(idp.requests, id)
	return nil
}

func (idp *testIdP) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return rand.Text(), time.Now().Add(5 * time.Minute), nil
}

func (idp *testIdP) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errors.New("no refresh tokens")
}

func (idp *testIdP) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (idp *testIdP) TerminateSession(context.Context, string, string) error { return nil }

func (idp *testIdP) RevokeToken(context.Context, string, string, string) *oidc.Error { return nil }

func (idp *testIdP) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

type idpKey struct {
	id  string
	key any
}

func (k idpKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k idpKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k idpKey) Key() any                                    { return k.key }
func (k idpKey) ID() string                                  { return k.id }
func (k idpKey) Use() string                                 { return "sig" }

// SigningKey signs with the published key, or with another one under the
// same key ID when the test wants a badly signed token.
func (idp *testIdP) SigningKey(context.Context) (op.SigningKey, error) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	if idp.badSignature {
		return idpKey{"k1", idp.wrongKey}, nil
	}
	return idpKey{"k1", idp.key}, nil
}

func (idp *testIdP) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (idp *testIdP) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{idpKey{"k1", &idp.key.PublicKey}}, nil
}

// op.OPStorage.

func (idp *testIdP) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	if c := idp.clients[id]; c != nil {
		return c, nil
	}
	return nil, errIdPNotFound
}

func (idp *testIdP) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	if c := idp.clients[id]; c != nil && c.secret == secret {
		return nil
	}
	return errors.New("wrong client secret")
}

func (idp *testIdP) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest puts the signed-in person's claims in the ID
// token (op.CanSetUserinfoFromRequest).
func (idp *testIdP) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, tr op.IDTokenRequest, _ []string) error {
	req, ok := tr.(*idpRequest)
	if !ok {
		return errors.New("not an auth request")
	}
	u := req.user
	ui.Subject = u.sub
	ui.PreferredUsername = u.username
	ui.Email = u.email
	for k, v := range u.claims {
		ui.AppendClaims(k, v)
	}
	return nil
}

func (idp *testIdP) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errors.New("no userinfo")
}

func (idp *testIdP) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("no introspection")
}

func (idp *testIdP) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (idp *testIdP) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errIdPNotFound
}

func (idp *testIdP) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("no JWT profile")
}

func (idp *testIdP) Health(context.Context) error { return nil }

// op.AuthRequest.

func (r *idpRequest) GetID() string          { return r.id }
func (r *idpRequest) GetACR() string         { return "" }
func (r *idpRequest) GetAMR() []string       { return []string{"pwd", "mfa"} }
func (r *idpRequest) GetAudience() []string  { return []string{r.ClientID} }
func (r *idpRequest) GetAuthTime() time.Time { return r.authTime }
func (r *idpRequest) GetClientID() string    { return r.ClientID }
func (r *idpRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
}

// GetNonce returns the client's nonce, or another when the test wants a
// token that answers a different login.
func (r *idpRequest) GetNonce() string {
	r.idp.mu.Lock()
	defer r.idp.mu.Unlock()
	if r.idp.badNonce {
		return "not-the-nonce-sent"
	}
	return r.Nonce
}
func (r *idpRequest) GetRedirectURI() string             { return r.RedirectURI }
func (r *idpRequest) GetResponseType() oidc.ResponseType { return r.ResponseType }
func (r *idpRequest) GetResponseMode() oidc.ResponseMode { return r.ResponseMode }
func (r *idpRequest) GetScopes() []string                { return r.Scopes }
func (r *idpRequest) GetState() string                   { return r.State }
func (r *idpRequest) GetSubject() string                 { return r.user.sub }
func (r *idpRequest) Done() bool                         { return r.done }

// op.Client.

func (c *idpClient) GetID() string                       { return c.id }
func (c *idpClient) RedirectURIs() []string              { return []string{c.redirect} }
func (c *idpClient) PostLogoutRedirectURIs() []string    { return nil }
func (c *idpClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *idpClient) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *idpClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *idpClient) GrantTypes() []oidc.GrantType { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *idpClient) LoginURL(id string) string {
	return c.idp.issuer + "/login?id=" + url.QueryEscape(id)
}
func (c *idpClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *idpClient) IDTokenLifetime() time.Duration {
	c.idp.mu.Lock()
	defer c.idp.mu.Unlock()
	return c.idp.lifetime
}
func (c *idpClient) DevMode() bool { return false }
func (c *idpClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *idpClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *idpClient) IsScopeAllowed(s string) bool {
	return slices.Contains([]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail}, s)
}
func (c *idpClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *idpClient) ClockSkew() time.Duration             { return 0 }
