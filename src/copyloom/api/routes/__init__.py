"""copyloom.api.routes"""
