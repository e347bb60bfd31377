"""The credit bank's services: learner accounts, records, deposits, applications and decisions,
appeals, transcripts, share links, staff, statistics and the revocation watch."""
