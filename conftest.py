# pytest's importlib mode names gateway/tests/test_x.py "gateway.tests.test_x" and, unless the real
# package is loaded first, registers the folder gateway/ as an empty namespace module "gateway"
# that hides the package. Loading it here, before collection, avoids that.
import gateway  # noqa: F401
