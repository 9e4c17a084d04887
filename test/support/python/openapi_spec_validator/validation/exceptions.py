class OpenAPIValidationError(Exception):
    pass
