from app.exporters.csv_out import export

__all__ = ['export']
