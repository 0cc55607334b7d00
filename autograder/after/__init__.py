"""After the grades: copies found, late work counted, marks carried into the LMS."""
