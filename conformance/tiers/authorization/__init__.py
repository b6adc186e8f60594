"""Authorization: every operation of the reference spec, asked by every role identity and anonymously."""
