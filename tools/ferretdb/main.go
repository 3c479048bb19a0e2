// Command ferretdb runs an embedded FerretDB (MongoDB wire protocol on SQLite)
// for local tests. It exists because `go install .../cmd/ferretdb` of v1.24.2
// builds a binary that panics at start (generated version files are missing
// from the published module); the embeddable package does not need them.
//
// Usage:
//
//	ferretdb [-listen-addr 127.0.0.1:27018] [-sqlite-dir ./ferretdb-data] [-log-level info]
//
// Flags default to the environment variables FERRETDB_LISTEN_ADDR,
// FERRETDB_SQLITE_DIR and FERRETDB_LOG_LEVEL when set.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func main() {
	listenAddr := flag.String("listen-addr", envOr("FERRETDB_LISTEN_ADDR", "127.0.0.1:27018"), "TCP address to listen on (env FERRETDB_LISTEN_ADDR)")
	sqliteDir := flag.String("sqlite-dir", envOr("FERRETDB_SQLITE_DIR", "ferretdb-data"), "directory for SQLite database files, created if missing (env FERRETDB_SQLITE_DIR)")
	logLevel := flag.String("log-level", envOr("FERRETDB_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env FERRETDB_LOG_LEVEL)")
	flag.Parse()

	if err := run(*listenAddr, *sqliteDir, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run(listenAddr, sqliteDir, logLevel string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("invalid -log-level %q: %w", logLevel, err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	dir, err := filepath.Abs(sqliteDir)
	if err != nil {
		return fmt.Errorf("resolving -sqlite-dir: %w", err)
	}
	if err = os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating -sqlite-dir: %w", err)
	}
	// FerretDB wants a "file:" URI naming a directory, with a trailing slash.
	sqliteURL := "file:" + strings.TrimSuffix(filepath.ToSlash(dir), "/") + "/"

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listenAddr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}

	// The first SIGINT/SIGTERM cancels ctx and triggers a clean shutdown;
	// once stop() has run, a second signal kills the process the default way.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	go func() {
		<-ctx.Done()
		logger.Info("signal received, shutting down")
		stop()
	}()

	logger.Info("starting embedded FerretDB", "listen", listenAddr, "sqlite", sqliteURL)

	if err = f.Run(ctx); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}
