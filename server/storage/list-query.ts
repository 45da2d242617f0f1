/** The paging, search and ordering every list endpoint takes (IoTaaP's DataTables style). */
export interface ListQuery {
  /** Lowercased; matched literally as a substring (no wildcards). */
  search: string | null;
  offset: number;
  limit: number;
  orderDir: 'asc' | 'desc';
}

export interface ListPage<T> {
  rows: T[];
  total: number;
  filtered: number;
}
