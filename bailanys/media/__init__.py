"""Media: RTP/RTCP, G.711, jitter buffer, RFC 4733 and in-band DTMF, RTP source
validation, one media clock, player, recorder and the hub of media legs
(see ``docs/architecture.md``)."""
