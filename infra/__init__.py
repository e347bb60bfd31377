"""Infrastructure every process opens: settings, the off-chain database and its migrations,
secrets at rest, the audit log, HTTP hardening and the CLI plumbing. Imports only `credentials`."""
