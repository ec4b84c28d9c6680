from rest_framework.views import APIView


class ProcedureListView(APIView):
    pass


class ProcedureDetailView(APIView):
    pass
