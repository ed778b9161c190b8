"""Media proxy: authenticated media serving for internal files and external URLs, with SSRF
protection, image downsampling and HTTP Range support.
"""
