package otlp

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // gRPC's registry of decompressors is process-wide: this adds gzip to it
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/tarian-soc/tarian/internal/ingest"
)

// serveGRPC serves LogsService on ln in the background; the returned
// function stops it gracefully within its context.
func (r *Receiver) serveGRPC(ln net.Listener, tlsCfg *tls.Config, errc chan<- error) func(context.Context) {
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(int(r.cfg.MaxBodyBytes))}
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	srv := grpc.NewServer(opts...)
	plogotlp.RegisterGRPCServer(srv, &logsService{r: r})
	r.d.Log.Info("otlp grpc listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil {
			errc <- fmt.Errorf("otlp: grpc: %w", err)
		}
	}()
	return func(sctx context.Context) {
		stopped := make(chan struct{})
		go func() {
			srv.GracefulStop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-sctx.Done():
			r.d.Log.Warn("otlp grpc shutdown cut requests short")
			srv.Stop()
			<-stopped
		}
		<-done
	}
}

// logsService implements opentelemetry.proto.collector.logs.v1.LogsService.
type logsService struct {
	plogotlp.UnimplementedGRPCServer
	r *Receiver
}

// Export authenticates by the "authorization" metadata and writes the
// request's records durably before it returns OK.
func (s *logsService) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	r := s.r
	var authz, remote string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			authz = v[0]
		}
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		remote = p.Addr.String()
	}
	t, ae := r.authenticate(ctx, authz, remote)
	switch ae {
	case authOK:
	case authForbidden:
		return plogotlp.ExportResponse{}, status.Error(codes.PermissionDenied, ae.String())
	case authFailed:
		// The token store did not answer: retryable, as back-pressure.
		return plogotlp.ExportResponse{}, unavailable(ae.String(), ingest.DefaultRetryAfter)
	default:
		return plogotlp.ExportResponse{}, status.Error(codes.Unauthenticated, ae.String())
	}
	o := r.accept(ctx, t, req.Logs(), "grpc")
	if o.err != nil {
		if o.retry == 0 {
			return plogotlp.ExportResponse{}, status.Error(codes.Internal, o.err.Error())
		}
		return plogotlp.ExportResponse{}, unavailable(o.err.Error(), o.retry)
	}
	resp := plogotlp.NewExportResponse()
	if o.rejected > 0 {
		ps := resp.PartialSuccess()
		ps.SetRejectedLogRecords(int64(o.rejected))
		ps.SetErrorMessage(o.message)
	}
	return resp, nil
}

// unavailable is OTLP's retryable refusal: UNAVAILABLE, with RetryInfo
// saying when to come back.
func unavailable(msg string, retry time.Duration) error {
	st, err := status.New(codes.Unavailable, msg).WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retry)})
	if err != nil {
		panic("BUG: RetryInfo detail: " + err.Error())
	}
	return st.Err()
}
