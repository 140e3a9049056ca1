"""Documents produced by the engine: the family's PDF récapitulatif, the credential letters."""
