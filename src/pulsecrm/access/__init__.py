"""Staff access to the API: bearer tokens today; sessions and MFA join them later."""
