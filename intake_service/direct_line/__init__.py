"""The direct line, both ways, inside an incident: messages and requests for information,
CCTV requisitions, attachments (between the command centre and the operator)."""
