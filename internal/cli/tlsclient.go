package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"
)

// clientHTTP is the API client's HTTP client. TARIAN_CA_FILE names PEM
// certificates to trust besides the system's, for a server whose
// certificate a private CA signed.
func clientHTTP(env Env) (*http.Client, error) {
	ca := env.Getenv("TARIAN_CA_FILE")
	if ca == "" {
		return newClientHTTP(), nil
	}
	hc, err := clientHTTPTrusting(ca)
	if err != nil {
		return nil, fmt.Errorf("TARIAN_CA_FILE: %w", err)
	}
	return hc, nil
}

// clientHTTPTrusting returns an HTTP client that trusts the certificates
// in the PEM file caFile as well as the system's.
func clientHTTPTrusting(caFile string) (*http.Client, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificate in %s", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: 10 * time.Minute, Transport: tr}, nil
}
