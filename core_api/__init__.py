"""firmsync core API: the firm's own records, auth, tenancy and the data layer pipelines write through."""
