"""copyloom.domain"""
