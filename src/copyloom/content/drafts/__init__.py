"""copyloom.content.drafts.service"""
