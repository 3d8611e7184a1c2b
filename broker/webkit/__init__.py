"""What every page (citizen and staff) shares: forms' anti-forgery tokens, rendering, and how strong a
session each page needs. The protocol layer (``broker.oidc``) never imports it."""
