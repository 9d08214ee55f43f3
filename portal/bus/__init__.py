"""GovESB: the bus client, the launch hand-off, inbound pushes, applications and data-sharing
receipts."""
