"""copyloom.review"""
