"""Staff dossier API and public look-up."""
