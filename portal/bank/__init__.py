"""The credit bank's own records: learner accounts, deposits, applications, decisions, appeals,
revocation flags and transcripts."""
