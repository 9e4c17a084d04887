"""Stand-in for openapi-spec-validator, for the moto the tests provision from Debian (see README.md here).

moto's API Gateway module imports it when moto loads its CloudFormation support; only an API Gateway
REST API imported from an OpenAPI document would call it, and no test does.
"""

from .validation.exceptions import OpenAPIValidationError


def validate(spec, *args, **kwargs):
    raise OpenAPIValidationError("aws-rekey tests: OpenAPI validation is not available (test/support/python is a stand-in)")


validate_spec = validate
