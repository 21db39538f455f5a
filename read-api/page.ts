/** Which page of a list a query wants: at most `limit` items, after the cursor of the previous page. */
export interface Page {
  limit: number;
  after?: string;
}
