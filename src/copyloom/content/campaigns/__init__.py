"""copyloom.content.campaigns.service"""
