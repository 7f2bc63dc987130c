"""copyloom.api"""
