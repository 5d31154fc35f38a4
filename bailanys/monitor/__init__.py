"""The supervisors' listen, whisper and barge (issue 21): settings and refusals."""
